// The chat page's client (examples/demo/chat.py): one WebSocket to /chat/ws?nick=NAME.
// Server events are JSON; everything a person typed is shown with textContent, never as HTML.
"use strict";

const joinForm = document.getElementById("join");
const nickInput = document.getElementById("nick");
const sendForm = document.getElementById("send");
const textInput = document.getElementById("text");
const statusLine = document.getElementById("status");
const log = document.getElementById("log");
let socket = null;

// One line of the log: [time] [nick] text, each part set with textContent.
function show(kind, { nick = "", text = "", time = "" } = {}) {
  const item = document.createElement("li");
  item.className = kind;
  if (time) {
    const stamp = document.createElement("time");
    stamp.dateTime = time;
    stamp.textContent = new Date(time).toLocaleTimeString();
    item.append(stamp);
  }
  if (nick) {
    const who = document.createElement("b");
    who.className = "nick";
    who.textContent = nick;
    item.append(who);
  }
  const what = document.createElement("span");
  what.className = "text";
  what.textContent = text;
  item.append(what);
  log.append(item);
  item.scrollIntoView({ block: "nearest" });
}

function online(names) {
  return `${names.length} online: ${names.join(", ")}`;
}

function setConnected(connected) {
  joinForm.hidden = connected;
  sendForm.hidden = !connected;
  document.body.dataset.chat = connected ? "open" : "closed";
  if (connected) textInput.focus();
}

function connect(nick) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}/chat/ws?nick=${encodeURIComponent(nick)}`;
  statusLine.textContent = "Connecting…";
  socket = new WebSocket(url);
  socket.addEventListener("open", () => {
    statusLine.textContent = `Connected as ${nick}.`;
    setConnected(true);
  });
  socket.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "message") {
      show("message", data);
    } else if (data.type === "join") {
      show("join", { nick: data.nick, text: `joined (${online(data.online)})` });
    } else if (data.type === "leave") {
      show("leave", { nick: data.nick, text: `left (${online(data.online)})` });
    } else if (data.type === "error") {
      show("error", { text: data.detail });
    }
  });
  socket.addEventListener("close", (event) => {
    const reason = event.reason ? `: ${event.reason}` : "";
    statusLine.textContent = `Disconnected (${event.code}${reason}).`;
    socket = null;
    setConnected(false);
  });
}

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const nick = nickInput.value.trim();
  if (nick && socket === null) connect(nick);
});

sendForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = textInput.value.trim();
  if (text && socket !== null && socket.readyState === WebSocket.OPEN) {
    socket.send(text);
    textInput.value = "";
  }
});

// /chat?nick=NAME joins at once.
const preset = (new URLSearchParams(location.search).get("nick") || "").trim();
if (preset) {
  nickInput.value = preset;
  connect(preset);
}

-- wrk script: POST a 4 KiB body to the URL given on the command line (used with /echo).
wrk.method = "POST"
wrk.body = string.rep("x", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"

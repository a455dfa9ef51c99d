"""Sans-I/O HTTP/1.1 message codec: parsers, writer, compression codecs."""

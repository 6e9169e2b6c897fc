"""`suno-callbacks console`: a web page on 127.0.0.1 over the reader API and the operator actions."""

"""Every port: what the application needs from outside it. Adapters implement these; they
see nothing else of the application but its errors."""

"""suno-callbacks: a managed callback URL for the Suno music API."""

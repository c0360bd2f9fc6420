"""JSON: message data and documents as JSON, both directions."""

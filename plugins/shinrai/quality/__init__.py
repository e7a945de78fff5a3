"""Quality: Great Expectations checkpoints that gate publication."""

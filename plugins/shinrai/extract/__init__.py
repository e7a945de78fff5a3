"""Extractors: page through each source stream and hand every page to the landing store."""

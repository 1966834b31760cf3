"""A link's journey: cited, due, checked, classified, recorded."""

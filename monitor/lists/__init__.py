"""A list's journey: fetch, pagination, encoding, parse, guard, match, diff, store a version."""

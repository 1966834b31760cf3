"""The offline demo: a story told on a loopback site with the shipped Tokyo lists."""

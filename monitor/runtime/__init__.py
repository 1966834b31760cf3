"""The three units of work (run a source, check a host's links, deliver a digest) and who runs them."""

"""The outer ring: settings, the composition root, the command line, and (later) the channels."""

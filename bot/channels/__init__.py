"""Channel adapters: each translates its platform to and from the core's Inbound and Outbound."""

"""A local stand-in for Alipay's cashier and openapi gateway, for development and tests only."""

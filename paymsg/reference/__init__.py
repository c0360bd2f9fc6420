"""Reference data and its loaders: currencies, countries, CNAPS2 code tables and facts."""

"""The shipped scenarios: sourced rulebooks (YAML) and the catalogue that lists them."""

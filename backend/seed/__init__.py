"""Demo data for `make run`: organizations, people and providers that make the app explorable."""

"""Application services shared by the CLI and the API: seeding, opening rounds, starting cases."""

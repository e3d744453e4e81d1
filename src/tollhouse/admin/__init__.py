"""The admin plane: services shared by the admin API and the CLI, and the admin API itself."""

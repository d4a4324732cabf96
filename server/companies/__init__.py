"""The companies loaded in a database: listing them and removing one (`outlay company list|remove`)."""

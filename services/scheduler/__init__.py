"""The scheduler service: rituals, reminders, boundary windows and programs, on time."""

"""Run the scheduler service: `python -m services.scheduler`."""

from services.scheduler.app import create_app
from services.scheduler.settings import SchedulerSettings
from shared.health import serve
from shared.settings import load_settings

if __name__ == "__main__":
    settings = load_settings(SchedulerSettings)
    serve(create_app(settings), settings)

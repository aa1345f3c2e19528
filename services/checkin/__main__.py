"""Run the checkin service: `python -m services.checkin`."""

from services.checkin.app import create_app
from services.checkin.settings import CheckinSettings
from shared.runtime import serve

if __name__ == "__main__":
    settings = CheckinSettings()
    serve(create_app(settings), settings)

"""Run the checkin service: `python -m services.checkin`."""

from services.checkin.app import create_app
from services.checkin.settings import CheckinSettings
from shared.health import serve
from shared.settings import load_settings

if __name__ == "__main__":
    settings = load_settings(CheckinSettings)
    serve(create_app(settings), settings)

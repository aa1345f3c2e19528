"""Run the insights service: `python -m services.insights`."""

from services.insights.app import create_app
from services.insights.settings import InsightsSettings
from shared.health import serve
from shared.settings import load_settings

if __name__ == "__main__":
    settings = load_settings(InsightsSettings)
    serve(create_app(settings), settings)

"""Run the gateway: `python -m services.gateway`."""

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.health import serve
from shared.settings import load_settings

if __name__ == "__main__":
    settings = load_settings(GatewaySettings)
    serve(create_app(settings), settings)

"""Run the gateway: `python -m services.gateway`."""

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.runtime import serve

if __name__ == "__main__":
    settings = GatewaySettings()
    serve(create_app(settings), settings)

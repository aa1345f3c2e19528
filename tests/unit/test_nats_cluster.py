"""The cluster's nats-server configuration, as written (no server started)."""

from __future__ import annotations

from pathlib import Path

from deploy.nats_auth import write_embedded_config
from deploy.nats_cluster import plan_cluster


def test_each_node_routes_to_the_others_keeps_its_own_store_and_knows_every_service_user(
    tmp_path: Path,
) -> None:
    cluster = plan_cluster(tmp_path, "attune", size=3)
    cluster.write_configs()
    stores = set()
    for node in cluster.nodes:
        text = node.config_path.read_text()
        assert f"server_name: {node.name}\n" in text
        assert f'listen: "127.0.0.1:{node.client_port}"' in text  # loopback only
        assert f'listen: "127.0.0.1:{node.route_port}"' in text
        others = [peer for peer in cluster.nodes if peer is not node]
        assert all(peer.route in text for peer in others)
        assert node.route not in text.split("routes:")[1]  # no route to itself
        store = text.split("store_dir: ")[1].split(" }")[0]
        stores.add(store)
        for service, password in cluster.passwords.items():
            assert f'user: {service}, password: "{password}"' in text
        assert oct(node.config_path.stat().st_mode & 0o777) == "0o600"  # it holds passwords
    assert len(stores) == 3
    assert cluster.urls == ",".join(f"nats://127.0.0.1:{n.client_port}" for n in cluster.nodes)


def test_the_same_passwords_serve_a_later_run_and_the_single_server_default(
    tmp_path: Path,
) -> None:
    first = plan_cluster(tmp_path, "attune", size=3).passwords
    assert plan_cluster(tmp_path, "attune", size=3).passwords == first
    assert set(first) == {"checkin", "scheduler", "insights", "gateway"}
    _config, single = write_embedded_config(tmp_path, "attune", 4222, tmp_path / "nats")
    assert single == first  # `make run` and `make run CLUSTER=3` share one data dir


def test_an_open_cluster_for_benchmarks_has_no_users(tmp_path: Path) -> None:
    cluster = plan_cluster(tmp_path, "attune", size=3, users=False)
    cluster.write_configs()
    assert "authorization" not in cluster.nodes[0].config_path.read_text()
    assert cluster.passwords == {}

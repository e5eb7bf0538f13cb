"""``usercore serve`` as operators run it: no settings at all, several workers, TLS."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.server import (
    E2E_BACKENDS,
    bearer,
    environment,
    free_port,
    postgres_database,
    run_cli,
    running_server,
)

pytestmark = pytest.mark.slow


@pytest.mark.skipif("sqlite" not in E2E_BACKENDS, reason="the embedded default needs SQLite")
def test_serves_the_full_api_with_no_settings_at_all(tmp_path: Path) -> None:
    with running_server(tmp_path, "default") as server:
        server.register("fresh@example.com")
        auth = bearer(server.login("fresh@example.com")["access_token"])
        assert server.client.get("/users/me", headers=auth).status_code == 200
        assert server.client.get("/health/ready").status_code == 200
    data_dir = tmp_path / "usercore"
    assert (data_dir / "usercore.sqlite3").is_file()
    assert oct((data_dir / "signing-keys.json").stat().st_mode & 0o777) == "0o600"


@pytest.mark.skipif("sqlite" not in E2E_BACKENDS, reason="workers share a database, not memory")
def test_workers_share_storage_and_metrics(tmp_path: Path) -> None:
    with running_server(tmp_path, "sqlite", "--workers", "2") as server:
        for number in range(6):
            server.register(f"w{number}@example.com")
        for number in range(6):
            auth = bearer(server.login(f"w{number}@example.com")["access_token"])
            assert server.client.get("/users/me", headers=auth).status_code == 200
        metrics = server.client.get("/metrics").text
        assert (
            'usercore_http_requests_total{method="POST",route="/users",status="201"} 6.0' in metrics
        )


def test_serves_https_with_a_certificate(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    args = ("--tls-cert-file", str(cert_file), "--tls-key-file", str(key_file))
    with running_server(tmp_path, "memory", *args, scheme="https") as server:
        assert server.client.get("/health/live").json() == {"status": "ok"}


@pytest.mark.postgres
def test_refuses_to_start_on_an_unmigrated_server_database(tmp_path: Path) -> None:
    with postgres_database() as url:
        failed = run_cli("serve", "--port", "0", env=environment(tmp_path, "postgres", url))
        assert failed.returncode == 1
        assert failed.stderr.count("\n") == 1
        assert failed.stderr.startswith("usercore: postgresql: the storage schema is out of date")
        assert "run `usercore migrate`" in failed.stderr
        assert run_cli("migrate", env=environment(tmp_path, "postgres", url)).returncode == 0


def test_a_bad_setting_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = {**environment(tmp_path, "memory"), "USERCORE_PORT": "http"}
    failed = run_cli("serve", env=env)
    assert failed.returncode == 2
    assert failed.stderr == "usercore: USERCORE_PORT: must be a whole number, not 'http'\n"
    assert "Traceback" not in failed.stdout


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_metrics_move_to_a_port_of_their_own_and_schema_pages_can_be_off(tmp_path: Path) -> None:
    metrics_port = free_port()
    settings = {"USERCORE_METRICS_PORT": str(metrics_port), "USERCORE_OPENAPI": "off"}
    with running_server(tmp_path, "memory", extra_env=settings) as server:
        server.register("scraped@example.com")
        for path in ("/metrics", "/schema/openapi.json", "/schema/swagger", "/schema"):
            assert server.client.get(path).status_code == 404, path
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        assert 'usercore_http_requests_total{method="POST",route="/users",status="201"} 1.0' in (
            scraped
        )
        response = server.client.get("/health/live")
        assert response.headers["x-content-type-options"] == "nosniff"


def test_metrics_can_be_off(tmp_path: Path) -> None:
    with running_server(tmp_path, "memory", extra_env={"USERCORE_METRICS": "off"}) as server:
        assert server.client.get("/metrics").status_code == 404
        assert server.client.get("/schema/openapi.json").status_code == 200

"""The landing zone on a real S3 API: moto's server on 127.0.0.1, read through s3fs with
the credentials and endpoint from the environment, as a deployment on a bucket would.
A missing bucket stops the load with a message naming it; a file deleted between the
listing and the read is reported, not loaded, and loaded once it is delivered again."""

from __future__ import annotations

import socket

import boto3
import duckdb
import pytest
from moto.server import ThreadedMotoServer

from ingest import SOURCES, ContractViolation, IngestRules, load_new_files
from ingest.loader import list_files

ACCOUNTS = SOURCES["accounts"]
HEADER = "account_id,company_name,segment,plan,contract_term,mrr,signup_date,csm_owner\n"
ROWS = "A1,Acme,SMB,Pro,monthly,100,2026-01-05,Ana\nA2,Beta,SMB,Pro,annual,200,2026-02-01,Ben\n"
LATER = "A3,Gamma,SMB,Pro,monthly,90,2026-03-01,Ana\n"
RULES = IngestRules(max_reject_rate=0.5)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def s3(s3_endpoint, monkeypatch):
    """A client of the server, and the environment the pipeline reads its S3 settings from."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "landing-reader",
        "AWS_SECRET_ACCESS_KEY": "not-a-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    import fsspec

    fsspec.filesystem("s3").clear_instance_cache()  # each test sees the bucket as it is
    return boto3.client("s3", endpoint_url=s3_endpoint)


@pytest.fixture()
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def _bucket(s3, name: str, files: dict[str, str]) -> str:
    s3.create_bucket(Bucket=name)
    for key, body in files.items():
        s3.put_object(Bucket=name, Key=key, Body=body.encode())
    return f"s3://{name}/exports"


def test_a_landing_zone_on_s3_loads_once_through_s3fs(s3, con):
    landing = _bucket(s3, "exports-a", {"exports/accounts/accounts_0301.csv": HEADER + ROWS})
    (load,) = load_new_files(con, ACCOUNTS, landing, RULES)
    assert (load.status, load.rows_loaded) == ("loaded", 2)
    assert load.file_path == "s3://exports-a/exports/accounts/accounts_0301.csv"
    assert load_new_files(con, ACCOUNTS, landing, RULES) == []  # the ledger remembers it
    ledger = con.execute("select file_path, status from raw._load_ledger").fetchall()
    assert ledger == [(load.file_path, "loaded")]


def test_a_missing_bucket_stops_the_load_naming_it(s3, con):
    with pytest.raises(ContractViolation, match=r"bucket 'no-such-bucket' does not exist"):
        load_new_files(con, ACCOUNTS, "s3://no-such-bucket/exports", RULES)
    # an existing bucket with nothing delivered yet for a source is no error
    landing = _bucket(s3, "exports-empty", {"exports/readme.txt": "exports land here"})
    assert load_new_files(con, ACCOUNTS, landing, RULES) == []


def test_a_file_deleted_after_the_listing_is_reported_and_loaded_when_it_returns(s3, con):
    first, second = "exports/accounts/accounts_0301.csv", "exports/accounts/accounts_0401.csv"
    landing = _bucket(s3, "exports-b", {first: HEADER + ROWS, second: HEADER + LATER})
    _, listed = list_files(landing, ACCOUNTS)  # s3fs keeps this listing
    assert len(listed) == 2
    s3.delete_object(Bucket="exports-b", Key=second)  # its producer moved it meanwhile
    loads = load_new_files(con, ACCOUNTS, landing, RULES)
    assert [(x.status, x.rows_loaded) for x in loads] == [("loaded", 2), ("vanished", 0)]
    assert "gone before it could be read" in loads[1].message
    s3.put_object(Bucket="exports-b", Key=second, Body=(HEADER + LATER).encode())
    (returned,) = load_new_files(con, ACCOUNTS, landing, RULES)
    assert (returned.status, returned.rows_loaded) == ("loaded", 1)
    assert con.execute("select count(*) from raw.accounts").fetchone()[0] == 3

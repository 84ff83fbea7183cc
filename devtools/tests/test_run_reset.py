"""`make demo-reset`'s first step: the development demo's state under var/ is deleted and the keys kept; with
DATABASE_URL set it refuses and deletes nothing."""

from devtools.run import main


def make_var(tmp_path):
    var = tmp_path / "var"
    for folder in ("media/pdfs", "mail", "celery/queue", "seal"):
        (var / folder).mkdir(parents=True)
    (var / "conduct.sqlite3").write_bytes(b"db")
    (var / "media/pdfs/a.pdf").write_bytes(b"%PDF")
    (var / "mail/1.log").write_text("mail")
    (var / "celerybeat-schedule").write_bytes(b"s")
    (var / "secret_key").write_text("k" * 50)
    (var / "seal/seal.key").write_text("key")
    return var


def test_reset_deletes_the_demo_state_and_keeps_the_keys(tmp_path, monkeypatch, capsys):
    var = make_var(tmp_path)
    monkeypatch.setenv("VAR_DIR", str(var))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["reset"]) == 0
    assert sorted(p.name for p in var.iterdir()) == ["seal", "secret_key"]
    assert (var / "seal/seal.key").read_text() == "key"
    assert "conduct.sqlite3" in capsys.readouterr().out


def test_reset_refuses_another_database_and_deletes_nothing(tmp_path, monkeypatch, capsys):
    var = make_var(tmp_path)
    monkeypatch.setenv("VAR_DIR", str(var))
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/somewhere")
    assert main(["reset"]) == 1
    assert (var / "conduct.sqlite3").exists() and (var / "mail/1.log").exists()
    assert "DATABASE_URL is set" in capsys.readouterr().err

"""Runtime settings: Java for Spark on a machine that has none."""

import subprocess

from lake_platform import settings


def test_without_system_java_spark_gets_the_bundled_java_17(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(settings.shutil, "which", lambda name: None)
    env = settings.java_environment()
    assert env["SPARK_LOCAL_IP"] == "127.0.0.1"
    version = subprocess.run(
        [f"{env['JAVA_HOME']}/bin/java", "-version"], capture_output=True, text=True, check=True
    ).stderr
    assert 'version "17.' in version


def test_an_explicit_java_home_wins(monkeypatch, tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "java").write_text("")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert settings.java_environment()["JAVA_HOME"] == str(tmp_path)

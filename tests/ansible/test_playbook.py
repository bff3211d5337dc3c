"""The Ansible deployment: the playbook passes ansible-playbook's syntax check, and the
server.properties it renders is one the broker accepts."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import yaml

from fastkafka.config import KafkaConfig, load_properties

ANSIBLE = Path(__file__).resolve().parents[2] / "ansible"


def test_syntax_check() -> None:
    exe = shutil.which("ansible-playbook") or str(Path(sys.executable).parent / "ansible-playbook")
    out = subprocess.run([exe, "-i", "inventory/example.ini", "site.yml", "--syntax-check"], cwd=ANSIBLE,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_rendered_server_properties_start_a_broker_config(tmp_path: Path) -> None:
    defaults = yaml.safe_load((ANSIBLE / "roles/fastkafka/defaults/main.yml").read_text())
    template = jinja2.Template((ANSIBLE / "roles/fastkafka/templates/server.properties.j2").read_text())
    hostvars = {"kafka1": {"node_id": 1, "ansible_host": "10.0.0.1"}, "kafka2": {"node_id": 2, "ansible_host": "10.0.0.2"}}
    text = template.render(groups={"fastkafka": ["kafka1", "kafka2"]}, hostvars=hostvars, node_id=2,
                           ansible_host="10.0.0.2", **defaults)
    path = tmp_path / "server.properties"
    path.write_text(text)
    config = KafkaConfig(load_properties(path))
    assert config.node_id == 2 and config.process_roles == {"broker", "controller"}
    assert [(v.node_id, v.host, v.port) for v in config.voters] == [(1, "10.0.0.1", 9093), (2, "10.0.0.2", 9093)]
    assert [(e.host, e.port) for e in config.advertised_listeners] == [("10.0.0.2", 9092)]
    assert config.log_dirs == ["/var/lib/fastkafka/data"]
    assert config.props["log.flush.interval.messages"] == "9223372036854775807"

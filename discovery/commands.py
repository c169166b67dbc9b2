"""Command line of discovery: the lab (`flask lab start|stop|status`) and SNMP polls
(`flask snmp poll SCOPE`)."""
import time
from pathlib import Path

import click
from flask import Flask

from accounts.audit import record
from discovery import lab
from discovery.scopes import find_scope
from discovery.snmp.poll import PollSettings, poll_scope
from inventory.errors import DomainError


def register(app: Flask) -> None:
    lab_group = click.Group("lab", help="The lab: simulated real devices on loopback addresses.")
    app.cli.add_command(lab_group)
    lab_dir = Path(app.instance_path) / "lab"

    @lab_group.command("start")
    @click.option("--port", type=int, default=None, help="UDP port of every agent (161 as root, else 16161).")
    def lab_start(port: int | None):
        """Serve the lab's recordings, each device on its own loopback address (already running: kept)."""
        devices = lab.lab_devices()
        port = port or lab.default_port()
        with click.progressbar(length=len(devices), label="starting the lab's devices") as bar:
            lab.start(lab_dir, devices, port, progress=lambda _name: bar.update(1))
            bar.update(len(devices) - bar.pos)
        ready = lab.wait_ready(devices, port)
        click.echo(f"lab: {ready} of {len(devices)} devices answer SNMP (community '{lab.COMMUNITY}', "
                   f"port {port}) on {devices[0].address} to {devices[-1].address}")

    @lab_group.command("stop")
    def lab_stop():
        """Stop the lab's simulators."""
        click.echo(f"lab: {lab.stop(lab_dir)} simulators stopped")

    @lab_group.command("status")
    def lab_status():
        running = lab.running_pids(lab_dir)
        click.echo(f"lab: {len(running)} of {len(lab.lab_devices())} simulators running")

    snmp = click.Group("snmp", help="SNMP polling.")
    app.cli.add_command(snmp)

    @snmp.command("poll")
    @click.argument("scope_name")
    @click.option("--timeout", type=float, default=1.0, show_default=True, help="Seconds per request.")
    @click.option("--retries", type=int, default=1, show_default=True)
    def snmp_poll(scope_name: str, timeout: float, retries: int):
        """Poll every address of SCOPE_NAME over SNMP and store what answered."""
        settings = PollSettings(timeout=timeout, retries=retries,
                                missing_after_scans=app.config["MISSING_AFTER_SCANS"])
        started = time.monotonic()
        try:
            with app.extensions["sessions"]() as session, session.begin():
                scope = find_scope(session, scope_name)
                with click.progressbar(length=1, label=f"polling {scope.name}") as bar:
                    def progress(done: int, total: int) -> None:
                        bar.length = total
                        bar.update(done - bar.pos)
                    run = poll_scope(session, scope, app.extensions["secret_box"], app.config["SCAN_ALLOWLIST"],
                                     settings, progress)
                record(session, "command line", "scan.snmp", "scan_run", run.id,
                       detail=f"scope {scope.name}: {run.hosts_answered} of {run.hosts_total} answered")
        except DomainError as error:
            raise click.ClickException(error.reason) from None
        click.echo(f"{run.hosts_answered} of {run.hosts_total} addresses answered in "
                   f"{time.monotonic() - started:.1f} s ({run.requests} requests): {run.created} devices new, "
                   f"{run.changed} changed, {run.unchanged} unchanged, {run.missing} now missing")
        for error in run.errors:
            click.echo(f"  {error['address']}: {error['reason']}")

"""Command line of discovery: the lab (`flask lab start|stop|status`), scans (`flask scan run SCOPE
[--kind nmap|snmp]`) and SNMP polls (`flask snmp poll SCOPE`), with a progress bar."""
import time
from pathlib import Path

import click
from flask import Flask

from core.audit import record
from core.errors import DomainError
from discovery import lab, scans
from discovery.models import RunStatus
from discovery.scopes import find_scope


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

    scan = click.Group("scan", help="Scans of a scope: nmap sweeps and SNMP polls.")
    app.cli.add_command(scan)

    @scan.command("run")
    @click.argument("scope_name")
    @click.option("--kind", type=click.Choice(scans.KINDS), default="nmap", show_default=True)
    def scan_run(scope_name: str, kind: str):
        """Scan SCOPE_NAME now (nmap sweep or SNMP poll) and store what it finds."""
        _run_scan(app, scope_name, kind)

    snmp = click.Group("snmp", help="SNMP polling.")
    app.cli.add_command(snmp)

    @snmp.command("poll")
    @click.argument("scope_name")
    def snmp_poll(scope_name: str):
        """Poll every address of SCOPE_NAME over SNMP and store what answered (as scan run --kind snmp)."""
        _run_scan(app, scope_name, "snmp")


def _run_scan(app: Flask, scope_name: str, kind: str) -> None:
    settings = scans.settings_from_config(app.config)
    sessions = app.extensions["sessions"]
    started = time.monotonic()
    try:
        with sessions() as session, session.begin():
            scope = find_scope(session, scope_name)
            run = scans.start_run(session, scope, kind, settings)
            record(session, "command line", f"scan.{kind}", "scan_run", run.id, detail=f"scope {scope.name}")
            run_id, total, mode = run.id, run.hosts_total, run.mode
    except DomainError as error:
        raise click.ClickException(error.reason) from None
    click.echo(f"run {run_id}: {kind} of {scope_name}, {total} addresses ({mode})")
    with click.progressbar(length=total, label="scanning") as bar:
        run = scans.execute_run(sessions, run_id, app.extensions["secret_box"], settings,
                                lambda done, _total: bar.update(done - bar.pos))
    if run.status is not RunStatus.FINISHED:
        raise click.ClickException(f"run {run.id} failed: {run.errors[0]['reason']}")
    click.echo(f"{run.hosts_answered} of {run.hosts_total} addresses answered in {time.monotonic() - started:.1f} s"
               + (f" ({run.requests} requests)" if kind == "snmp" else "")
               + f": {run.created} devices new, {run.changed} changed, {run.unchanged} unchanged, "
               f"{run.missing} now missing")
    for error in run.errors:
        click.echo(f"  {error['address']}: {error['reason']}")

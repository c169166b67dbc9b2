# Two commands: `make run` sets everything up and starts the service (web server, worker, lab); `make test` runs
# the suite.
# Each step is skipped when already done, so a second `make run` starts in seconds.
# Debian's own interpreter when there is one: it has gdbm, which the SNMP simulator's index needs.
PYTHON ?= $(shell [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
# Debian packages the service and its tests use: nmap for discovery, the net-snmp tools and agent,
# venv and gdbm for the interpreters that build the environments, PostgreSQL's client for the checks,
# Chromium for the browser tests.
SYSTEM_PACKAGES := nmap snmp snmpd python3-venv python3-gdbm postgresql-client iproute2 chromium fusioninventory-agent-task-network fonts-dejavu-core libwireshark-data
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Beside gettext's own: lazy_gettext (and its usual alias _l), and the refusals of core.i18n that pages translate.
BABEL_KEYWORDS := -k _l -k lazy_gettext -k Reason -k SchemaMessage
MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

.PHONY: run test setup system-packages bench clean lab translations

run: setup
	$(PY) -m flask --app app db upgrade
	$(PY) -m flask --app app seed
	$(PY) -m flask --app app budget readiness
	$(PY) -m flask --app app lab start
	$(PY) app.py --lab

lab: setup
	$(PY) -m flask --app app lab start

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) bench/ingest.py

setup: system-packages $(VENV)/.installed $(MO_FILES)

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:" $$missing; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	fi

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --progress-bar on pip
	$(PY) -m pip install --progress-bar on -r requirements.txt
	touch $@

%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@

# After changing text people read: extract every message with where it is used, and update the Vietnamese
# catalogue (then translate the new entries in translations/vi/LC_MESSAGES/messages.po).
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-wrap --ignore-dirs='.* ._ .venv tests bench migrations instance' -o translations/messages.pot .
	$(VENV)/bin/pybabel update --no-wrap --no-fuzzy-matching -i translations/messages.pot -d translations
	rm translations/messages.pot

clean:
	rm -rf $(VENV) $(MO_FILES)

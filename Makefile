# make test        create/update .venv from the lock (torch==2.13.0 CPU first, then mhp[dev,train,export,coreml,bench])
#                  and run lint + tests
# make lock        re-resolve every dependency from setup.cfg in a scratch venv and rewrite the lock (constraints.txt);
#                  then run make test with it before committing
# make fuzz        the hypothesis fuzz tests of every user-fed parser (tests/fuzz) at 20,000 random examples each
# make quickstart  create/update .venv, train LPSKI on built-in synthetic humans (~12 min on 2 CPU cores), evaluate,
#                  export (ONNX, TFLite fp32/INT8) and benchmark it
# make bench-peers full-size LPSKI (256 px, J=18) against MediaPipe BlazePose full, same LiteRT settings
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
TORCH := torch==2.13.0
# onnx2tf's metadata pins an older TensorFlow/ONNX stack; installed alone it converts identically with ours.
ONNX2TF := onnx2tf==1.29.24
EXTRAS := dev,train,export,coreml,bench

# The lock: the exact version of every package .venv gets (direct and transitive, pip and setuptools included), for
# this kind of machine (Linux x86_64, CPython 3.11). Every install below goes through it as pip constraints, so a new
# release on the registry changes nothing until `make lock` is run and the suite passes with its result.
LOCK := constraints.txt
PIP := $(BIN)/python -m pip install --quiet --constraint $(LOCK)
LOCK_VENV := build/lock-venv

# MediaPipe's BlazePose GHUM full landmark model, the peer of `make bench-peers`: it ships inside this wheel,
# which is downloaded (not installed) and unpacked into the venv.
MEDIAPIPE := mediapipe==0.10.21
PEERS := $(VENV)/peers
MEDIAPIPE_WHEEL := $(PEERS)/.downloaded
BLAZEPOSE := $(PEERS)/pose_landmark_full.tflite
# mhp-infer's person detector, BlazePose's pose_detection.tflite from the same wheel, where mhp looks for it
# (sys.prefix/share/mhp; its sha256 is checked when it loads).
DETECTOR := $(VENV)/share/mhp/pose_detection.tflite

# The Kotlin tests of android_demo/posecore (tests/android): a headless JDK (Debian's default-jdk-headless, when no
# java is on the PATH), kotlinc from npm, pinned to the app's Kotlin version, and Debian's JUnit 5 console launcher
# and Android's org.json. A failed install only warns here: the tests then skip locally and fail on CI (CI=true).
KOTLIN_VERSION := 2.4.20
TOOLS := .tools
KOTLINC := $(TOOLS)/node_modules/kotlin-compiler/bin/kotlinc
JVM_JARS := /usr/share/java/junit-platform-console-standalone.jar /usr/share/java/json-android.jar

# Real photos and a video of people for the detector tests: Debian's opencv-doc (examples/data), of which only these
# files are extracted. A failed download only warns: the tests then skip locally and fail on CI.
PHOTOS := $(TOOLS)/opencv-doc
PHOTO_FILES := basketball1.png basketball2.png messi5.jpg fruits.jpg box.png starry_night.jpg vtest.avi
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: venv lock test lint format fuzz quickstart bench-peers detector photos java jvm-tools ios-tools clean

venv: $(STAMP)

# pip, setuptools and wheel come from the lock too, and mhp is built with them (no build isolation: nothing unpinned
# is fetched to build it).
$(STAMP): setup.cfg pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) pip setuptools wheel
	$(PIP) $(TORCH)
	$(PIP) --no-build-isolation -e ".[$(EXTRAS)]"
	$(PIP) --no-deps $(ONNX2TF)
	@if $(BIN)/python -m pip list 2>/dev/null | grep -qi nvidia; then \
		echo "error: a CUDA (nvidia-*) package was installed into $(VENV); install $(TORCH) first"; exit 1; fi
	touch $(STAMP)

# What a fresh resolve of setup.cfg's ranges gives today, installed the way $(STAMP) installs (torch first, onnx2tf
# without its dependencies), frozen. torch is written without its local label (+cpu), so the same lock takes the
# CPU wheel here and the CUDA build of the same release on a GPU machine.
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	$(LOCK_VENV)/bin/python -m pip install --quiet $(TORCH)
	$(LOCK_VENV)/bin/python -m pip install --quiet ".[$(EXTRAS),runtime]"
	$(LOCK_VENV)/bin/python -m pip install --quiet --no-deps $(ONNX2TF)
	{ echo "# The lock: every package .venv gets, at the version the whole test suite passed with."; \
	  echo "# Linux x86_64, CPython $$($(LOCK_VENV)/bin/python -c 'import platform; print(platform.python_version())'); written by make lock on $$(date -u +%Y-%m-%d); used as pip constraints."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude mhp | sed -E 's/^(torch==[^+]*)\+.*/\1/' | LC_ALL=C sort -f; \
	} > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	rm -rf $(LOCK_VENV)
	@echo "wrote $(LOCK); now run make test with it, and record the tested versions in the README"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

fuzz: $(STAMP)
	MHP_FUZZ=deep $(BIN)/python -m pytest tests/fuzz

$(KOTLINC):
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) kotlin-compiler@$(KOTLIN_VERSION) \
		|| echo "warning: could not install kotlin-compiler $(KOTLIN_VERSION) from npm: the Kotlin tests cannot run"

java:
	@command -v java >/dev/null || $(SUDO) apt-get install -y -q default-jdk-headless >/dev/null \
		|| ($(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q default-jdk-headless >/dev/null) \
		|| echo "warning: could not install Debian's default-jdk-headless: the Kotlin tests cannot run"

$(JVM_JARS):
	$(SUDO) apt-get install -y -q junit5 libandroid-json-org-java >/dev/null \
		|| ($(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q junit5 libandroid-json-org-java >/dev/null) \
		|| echo "warning: could not install Debian's junit5 and libandroid-json-org-java: the Kotlin tests cannot run"

jvm-tools: java $(KOTLINC) $(JVM_JARS)

# The iOS demo's Podfile check (tests/ios: `ruby -c`): Debian's ruby. No Swift toolchain exists for this machine, so
# the Swift sources are only parsed (tree-sitter-swift, in the dev extra). A failed install only warns.
RUBY := /usr/bin/ruby

$(RUBY):
	$(SUDO) apt-get install -y -q ruby >/dev/null \
		|| ($(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q ruby >/dev/null) \
		|| echo "warning: could not install Debian's ruby: the Podfile check cannot run"

ios-tools: $(RUBY)

# MHP_LOCKED tells the suite that .venv was installed from the lock, so tests/test_lock.py checks every version.
test: lint jvm-tools ios-tools detector photos $(BLAZEPOSE)
	MHP_LOCKED=1 $(BIN)/python -m pytest

quickstart: $(STAMP) $(DETECTOR)
	$(BIN)/python -m mhp.cli.quickstart

$(MEDIAPIPE_WHEEL): $(STAMP)
	mkdir -p $(PEERS)
	$(BIN)/python -m pip download --quiet --no-deps $(MEDIAPIPE) -d $(PEERS)
	touch $@

$(BLAZEPOSE): $(MEDIAPIPE_WHEEL)
	$(BIN)/python benchmarks/peers.py unpack --wheel-dir $(PEERS) --out $@

$(DETECTOR): $(MEDIAPIPE_WHEEL)
	$(BIN)/python benchmarks/peers.py unpack --wheel-dir $(PEERS) --out $@ \
		--member mediapipe/modules/pose_detection/pose_detection.tflite

detector: $(DETECTOR)

$(PHOTOS)/.done:
	mkdir -p $(PHOTOS)
	cd $(PHOTOS) && rm -f opencv-doc_*.deb && { apt-get download -q opencv-doc >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -q >/dev/null && apt-get download -q opencv-doc >/dev/null 2>&1; }; } \
		&& dpkg-deb --fsys-tarfile opencv-doc_*.deb \
		| tar -x --strip-components=7 $(addprefix ./usr/share/doc/opencv-doc/examples/data/,$(PHOTO_FILES)) \
		&& rm -f opencv-doc_*.deb && touch .done \
		|| echo "warning: could not fetch Debian's opencv-doc: the real-photo tests cannot run"

photos: $(PHOTOS)/.done

bench-peers: $(BLAZEPOSE)
	$(BIN)/python benchmarks/peers.py bench --peer $(BLAZEPOSE)

clean:
	rm -rf $(VENV) $(TOOLS) build *.egg-info .pytest_cache .ruff_cache

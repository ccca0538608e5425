# The two commands: `make run` (serve the demo) and `make test` (all tests).
.PHONY: run test setup bench bench-crvs replica fuzz soak spec lint clean-db screenshots

run:        ## set up, create/upgrade the demo database, serve Odoo on 127.0.0.1:8069
	bash scripts/run.sh

test:       ## install the whole suite in a throwaway database and run every test
	bash scripts/test.sh

setup:      ## only create/refresh the virtualenv (.venv)
	bash scripts/setup.sh

bench:      ## benchmark DCI sync/async search and callbacks, threaded and prefork (README)
	bash scripts/bench.sh

bench-crvs: ## import 50,000 CRVS births + 5,000 deaths over HTTP, then again (.odoo/bench-crvs.json)
	bash scripts/bench_crvs.sh

replica:    ## the searches read on a streaming replica (db_replica_host, scripts/replica.sh)
	bash scripts/replica.sh

fuzz:       ## schemathesis over the served OpenAPI document, with and without a token (README)
	bash scripts/fuzz.sh

soak:       ## load and fault run: 10-min soak, peer down 5 min, kill -9 mid-batch and mid-import
	bash scripts/soak.sh

screenshots: ## serve a fresh demo, play the case worker, write docs/screenshots/*.png (headless Chromium)
	bash scripts/screenshots.sh

spec:       ## download the official DCI 1.0.0 spec files into ../shared/dci-spec
	bash scripts/get_spec.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

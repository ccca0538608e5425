#!/bin/bash
# Run once by the postgres image at initdb: allow the db-replica service to stream.
set -e
echo "host replication $POSTGRES_USER all scram-sha-256" >>"$PGDATA/pg_hba.conf"

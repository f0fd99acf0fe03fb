#!/usr/bin/env bash
# Creates the user and database that oslo.db's opportunistic tests look for
# (openstack_citest) on the local MariaDB and PostgreSQL servers. Idempotent.
# A server that is not running is skipped: its tests then skip too.
set -euo pipefail

citest=openstack_citest

if mysql -uroot -h127.0.0.1 -e 'SELECT 1' >/dev/null 2>&1; then
    mysql -uroot -h127.0.0.1 <<SQL
CREATE USER IF NOT EXISTS '$citest'@'%' IDENTIFIED BY '$citest';
CREATE USER IF NOT EXISTS '$citest'@'localhost' IDENTIFIED BY '$citest';
GRANT ALL PRIVILEGES ON *.* TO '$citest'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$citest'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS $citest;
SQL
    echo "MariaDB: $citest ready"
else
    echo "MariaDB not reachable on 127.0.0.1:3306: its tests will skip" >&2
fi

pg() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if pg -c 'SELECT 1' >/dev/null 2>&1; then
    if [ -z "$(pg -c "SELECT 1 FROM pg_roles WHERE rolname='$citest'")" ]; then
        pg -c "CREATE ROLE $citest WITH LOGIN CREATEDB PASSWORD '$citest'"
    fi
    if [ -z "$(pg -c "SELECT 1 FROM pg_database WHERE datname='$citest'")" ]; then
        pg -c "CREATE DATABASE $citest OWNER $citest"
    fi
    echo "PostgreSQL: $citest ready"
else
    echo "PostgreSQL not reachable on 127.0.0.1:5432: its tests will skip" >&2
fi

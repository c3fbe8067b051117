#!/bin/sh
# Runs in the revision's own checkout; REVISION, PORT, REPOSITORY, CHECKOUT and
# SIGNAL_URL come in the environment. exec: the service is the supervised process.
exec node server.mjs

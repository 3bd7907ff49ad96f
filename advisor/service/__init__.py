"""`advisor serve`: the advisor as a service a team shares (issue 20).

A front end like the CLI and the batch: it holds no modelling logic. It takes uploads, checks them
with the loading stage, records runs in a SQL database (store.py), runs them on Ray with the
batch's job function (runner.py), and serves their typed progress events, results, reports, models
and predictions over HTTP (app.py: the JSON API; pages.py: the browser pages).

    HOME/advisor.db           the SQLite database (unless --db names another)
    HOME/server.lock          held by the one server using HOME
    HOME/runs/ID/upload/      the uploaded file (or unzipped image folder), written atomically
    HOME/runs/ID/events.jsonl the run's typed events, one JSON object a line, appended by its Ray task
    HOME/runs/ID/run/         the run folder (`advisor recommend --out`): result.json, report, model
"""

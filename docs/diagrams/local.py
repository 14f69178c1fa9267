"""photopipe's local mode: the whole pipeline in one `photopipe` process, no cloud account.

Rendered to docs/images/local.png by docs/diagrams/render.sh. The boxes are the crates and
folders of the repository (cli/, statemachine/runner, functions/pipeline, local/).
"""

import sys

from diagrams import Edge
from diagrams.generic.database import SQL
from diagrams.generic.storage import Storage
from diagrams.onprem.client import Users
from diagrams.onprem.compute import Server
from diagrams.onprem.database import Mariadb
from diagrams.onprem.monitoring import Prometheus
from diagrams.programming.flowchart import Document, MultipleDocuments, PredefinedProcess
from diagrams.programming.language import Rust

from style import FAIL, diagram, group

OUT = sys.argv[1] if len(sys.argv) > 1 else "../images/local"

with diagram("photopipe locally: one binary (photopipe serve / run / demo)", OUT, ranksep="1.4"):
    browser = Users("browser, curl,\nscrape job")
    cli_user = Users("terminal")

    with group("one photopipe process (cli/)"):
        http = Rust("photopipe serve (HTTP)\nPUT /uploads/{name}, GET /,\n/api/catalog, /executions,\n/healthz, /metrics")
        commands = Rust("photopipe run FILE...\nphotopipe demo (upload_files/)")
        watcher = Rust("folder watcher\n(files dropped into input/,\npending ones after a restart)")
        with group("statemachine/runner executing statemachine/photo_pipeline.asl.json"):
            runner = PredefinedProcess("local runner\n(Retry, Catch, history)")
            validate = Rust("Validate")
            resize = Rust("Resize\n(functions/engine)")
            catalog = Rust("Catalog")
            on_failure = Rust("OnFailure")
        metrics = Prometheus("Prometheus text\n(executions, retries,\nstep latency)")

    with group("data dir: uploads"):
        input_dir = Storage("input/\n(the input bucket)")

    with group("data dir: results (--data-dir, default ./photopipe-data)"):
        output_dir = Storage("output/: website files,\nthumbnails/, gallery.json")
        logs_dir = Storage("logs/\nfailures/, alerts/")
        executions = MultipleDocuments("executions/*.jsonl\n(every state entered/left)")
        sqlite = SQL("catalog.sqlite3\n(default catalog)")
        outbox = Document("outbox/*.eml\n(no --smtp-url)")

    mariadb = Mariadb("MySQL / MariaDB\n(--database-url mysql://...)")
    smtp = Server("SMTP server\n(--smtp-url smtp://...)")

    browser >> Edge(label="HTTP, 127.0.0.1:8080") >> http
    cli_user >> commands
    http >> Edge(label="store upload") >> input_dir
    commands >> Edge(label="store upload") >> input_dir
    input_dir >> Edge(label="new file", style="dotted") >> watcher
    validate >> Edge(label="reads head", style="dotted") >> input_dir
    http >> Edge(label="start execution") >> runner
    commands >> Edge(label="start execution") >> runner
    watcher >> Edge(label="start execution") >> runner
    runner >> validate >> resize >> catalog
    runner >> Edge(label="history") >> executions
    validate >> Edge(label="Catch", **FAIL) >> on_failure
    resize >> Edge(label="Catch", **FAIL) >> on_failure
    catalog >> Edge(label="Catch", **FAIL) >> on_failure
    resize >> Edge(label="thumbnail") >> output_dir
    catalog >> Edge(label="row") >> sqlite
    catalog >> Edge(label="or", style="dotted") >> mariadb
    catalog >> Edge(label="gallery.json") >> output_dir
    on_failure >> Edge(label="failure record", **FAIL) >> logs_dir
    on_failure >> Edge(label="alert (10/hour + burst notice)", **FAIL) >> outbox
    on_failure >> Edge(label="or", style="dotted", color="firebrick") >> smtp
    http >> Edge(label="GET /metrics") >> metrics
    http >> Edge(label="serves GET /", style="dotted") >> output_dir

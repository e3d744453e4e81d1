"""A stdio MCP server for the gateway to run: ``python -m tests.fakes.mcp_stdio NAME``.

NAME picks one of the servers in ``mcp_servers``; ``crashy`` adds a tool that kills the
process, to test that the gateway restarts it.
"""

from __future__ import annotations

import os
import sys

from tests.fakes.mcp_servers import files_server, notes_server, shifty_server


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "notes"
    server = {"notes": notes_server, "files": files_server, "shifty": shifty_server}.get(name, notes_server)()

    @server.tool(description="Exit the process at once (test control).")
    def crash() -> str:
        os._exit(3)

    @server.tool(description="The process id and an environment value.")
    def whoami() -> str:
        return f"{os.getpid()} {os.environ.get('FAKE_MCP_GREETING', '-')} {os.getcwd()}"

    server.run("stdio")


if __name__ == "__main__":
    main()

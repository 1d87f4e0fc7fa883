#!/usr/bin/env python3
"""Print node, output name and digest of every node of a workspace's latest run (sorted)."""
import sqlite3, sys
db = sqlite3.connect(f'file:{sys.argv[1]}/.tcbuild/manifest.sqlite?mode=ro', uri=True)
run = db.execute('select max(run_id) from run_nodes').fetchone()[0]
rows = db.execute('''select rn.node, o.name, o.digest from run_nodes rn join run_cache rc on rc.fingerprint = rn.fingerprint
                     join exec_outputs o on o.exec_id = rc.exec_id where rn.run_id = ? order by rn.node, o.name''', (run,))
for r in rows: print(*r)

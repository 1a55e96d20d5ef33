"""The provinces' portal: a server-rendered web front door (FastAPI + Jinja2) over ``etl``.

It imports ``etl``; ``etl`` never imports it. ``iga portal`` serves ``portal.app:create_app``.
"""

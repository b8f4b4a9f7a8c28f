"""Exercise templates: each file is one function with its body removed and a TODO.

Copy one out with ``npae.exercises.copy_template(name)`` (or ``python -m npae.exercises copy
NAME .``), fill it in, and run the file: it calls ``npae.exercises.check`` on itself.
"""

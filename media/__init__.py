"""Xuncha's photo library: validation, EXIF, derivatives, hashes and storage backends on Pillow.

No Flask and no database here: the server's ``attachments`` domain calls into it.
"""

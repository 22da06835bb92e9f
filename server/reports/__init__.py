"""Publication: the circular (通报), the score sheet and the bulletin (快报), as DOCX, HTML and XLSX."""

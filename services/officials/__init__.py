"""The officials' directory of a province: its officials, their contact details and sign-in, their role
assignments with validity days (`service`), the import of a province's spreadsheet (`importer`, `sheets`), the
checks every write passes (`rules`), the writes and their hash-chained journal (`writes`, `journal`)."""

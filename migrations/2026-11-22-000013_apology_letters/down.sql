DROP INDEX dossiers_overdue_idx;
DROP TABLE apology_letters;

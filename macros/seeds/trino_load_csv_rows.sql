-- noqa: disable=LT02
-- (the whole file is Jinja: sqlfluff lints the whitespace it renders as SQL indentation)
{#-
    Seed rows on Trino as one string literal per INSERT, split and cast by Trino.

    dbt-trino's own load_csv_rows sends every value as a bound parameter (46k for the
    trading calendar's 11.6k rows) in 1,000-row INSERT ... VALUES statements: 35-50 s per
    build on a 2-core machine, the slowest step of a small build. Typed literals in the
    VALUES rows instead are slower still (Trino analyses every row's expressions: ~12 ms
    a row). One varchar literal holding the rows (fields joined by U+001F, rows by
    U+001E), split with split() and unnest() and each field cast to the seed's column
    type, is parsed as one token and planned as one expression. DuckDB and Athena load
    seeds their own way and are not affected. Not in macros/engine: it overrides
    dbt-trino's macro rather than being one of ours, and it uses Jinja tags the lint
    library there does not load.
-#}
{% macro trino__load_csv_rows(model, agate_table) %}
    {%- set field_separator, row_separator = '\x1f', '\x1e' -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set casts = [] -%}
    {%- for column in agate_table.column_names -%}
        {%- set inferred = adapter.convert_type(agate_table, loop.index0) -%}
        {%- set type = column_override.get(column, inferred) -%}
        {%- do casts.append(
            'cast(nullif(fields[' ~ loop.index ~ "], '') as " ~ type ~ ')'
        ) -%}
    {%- endfor -%}
    {%- set columns = get_seed_column_quoted_csv(model, agate_table.column_names) -%}
    {%- set statements = [] -%}
    {#- 10,000 rows of the calendar are ~0.4 MB, under Trino's 1 MB query text limit -#}
    {%- for chunk in agate_table.rows | batch(10000) -%}
        {%- set rows = [] -%}
        {%- for row in chunk -%}
            {%- set fields = [] -%}
            {%- for value in row -%}
                {%- set text = '' if value is none else (
                    ('true' if value else 'false') if value is sameas true or value is sameas false
                    else value | string
                ) -%}
                {%- if field_separator in text or row_separator in text -%}
                    {{ exceptions.raise_compiler_error(
                        'seed ' ~ model['name'] ~ ': a value holds U+001F or U+001E, which '
                        ~ 'the Trino seed loader uses as separators: ' ~ text
                    ) }}
                {%- endif -%}
                {%- do fields.append(text) -%}
            {%- endfor -%}
            {%- do rows.append(fields | join(field_separator)) -%}
        {%- endfor -%}
        {%- set sql -%}
            insert into {{ this.render() }} ({{ columns }})
            select {{ casts | join(', ') }}
            from (
                select split(record, '{{ field_separator }}') as fields
                from unnest(split('{{ rows | join(row_separator) | replace("'", "''") }}', '{{ row_separator }}')) as records (record)
            )
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

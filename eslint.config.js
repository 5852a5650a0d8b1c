import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'cdk.out/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Synthesized CloudFormation is untyped JSON by nature; the assertions are what checks its shape.
  { files: ['test/infra/**/*.ts'], rules: { '@typescript-eslint/no-unsafe-member-access': 'off' } },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);

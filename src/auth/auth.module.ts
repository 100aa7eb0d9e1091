import { Logger, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiKeyGuard } from './api-key.guard';
import { KeyStore } from './key-store';

@Module({
  providers: [
    {
      provide: KeyStore,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => KeyStore.fromConfig(config, new Logger('Auth')),
    },
    ApiKeyGuard,
  ],
  exports: [KeyStore, ApiKeyGuard],
})
export class AuthModule {}

import { Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
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
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
  exports: [KeyStore],
})
export class AuthModule {}
